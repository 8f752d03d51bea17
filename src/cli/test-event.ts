// What `otel-audit doctor` and `otel-audit emit` send is a test: marked so in every destination,
// and free of anything a reader (or a secret scanner) would take for a leaked credential.

/** Resource of the test events: a service name of their own and `audit.test: true` (Splunk: HEC fields). */
export function testEventResource(command: 'doctor' | 'emit') {
  return { serviceName: `otel-audit-${command}`, resourceAttributes: { 'audit.test': true } } as const;
}

// Property names and values that usually hold a credential, e.g. the Splunk HEC token in the Grist
// config samples ("token": "Splunk B5A7...").
const SECRET_NAME = /token|secret|passw|api_?key|authorization|credential|private_?key/i;
const SECRET_VALUE = /^(splunk|bearer|basic)\s+\S/i;
const PLACEHOLDER = 'redacted-in-test-event';

/** A catalog sample with every secret-looking string replaced by a placeholder (still a string, so still valid). */
export function testDetails(sample: unknown, name = ''): unknown {
  if (typeof sample === 'string') return SECRET_NAME.test(name) || SECRET_VALUE.test(sample) ? PLACEHOLDER : sample;
  if (Array.isArray(sample)) return sample.map((item) => testDetails(item, name));
  if (sample && typeof sample === 'object') {
    return Object.fromEntries(Object.entries(sample).map(([key, value]) => [key, testDetails(value, key)]));
  }
  return sample;
}
