// metricSum: every sample of one metric in Prometheus text, and nothing of a longer-named one.
import { metricSum } from './console-health.service';

const TEXT = `# HELP registrations_events_total Proxy events committed
# TYPE registrations_events_total counter
registrations_events_total{kind="register",origin="kazoo"} 3
registrations_events_total{kind="refresh",origin="kazoo"} 4
registrations_events_total_extra 100
registrations_dead_lettered_total{queue="q",reason="not_json"} 1
`;

it('sums the samples of the metric named, with or without labels', () => {
  expect(metricSum(TEXT, 'registrations_events_total')).toBe(7);
  expect(metricSum(TEXT, 'registrations_dead_lettered_total')).toBe(1);
  expect(
    metricSum('registrations_unassigned_events_total 0\n', 'registrations_unassigned_events_total'),
  ).toBe(0);
});

it('is null when the metric has no sample (a labelled counter before its first event)', () => {
  expect(metricSum(TEXT, 'registrations_ignored_events_total')).toBeNull();
});
