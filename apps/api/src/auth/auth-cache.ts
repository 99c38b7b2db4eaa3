// How long the API trusts what it learnt about a credential without asking again: a revoked or
// expired token of ours, a removed API key, a disabled account, and a verified Kazoo JWT all
// stop working within this time.
export const AUTH_CACHE_MS = 5_000;
