// The V8 flags each app runs with, wherever it is started (npm start, docker compose, benches).
// The ingest allocates a batch's worth of short-lived objects per message burst (decoded
// events, bindings, JSON text); a larger young generation lets most of them die there instead
// of being promoted and marked: bench/ingest measured 20-25 % less CPU in the ingest process.
export const APP_NODE_FLAGS: Readonly<Record<'ingest' | 'api', readonly string[]>> = {
  ingest: ['--max-semi-space-size=64'],
  api: [],
};
