// Starts the example. Environment: PORT (3000); OTEL_AUDIT_EXPORTER_OTLP_ENDPOINT, where the audit
// gateway listens (otel-audit gateway prints it; default http://localhost:4318/v1/logs);
// AUDIT_SPOOL_DIR, the durable spool (default ./audit-spool).
import { createAuditLogger } from 'otel-audit';
import { createApp } from './app.js';
import { catalog } from './catalog.js';

const audit = createAuditLogger({
  catalog,
  serviceName: 'notes-example',
  serviceVersion: '1.0.0',
  spoolDir: process.env['AUDIT_SPOOL_DIR'] ?? 'audit-spool',
  onError: (error) => console.error(`audit: ${error.message}`),
});
const port = Number(process.env['PORT'] ?? 3000);
const server = createApp(audit).listen(port, '127.0.0.1', () => console.log(`notes example listening on http://127.0.0.1:${port}`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    // What is not delivered within 10 s stays in the spool for the next start.
    void audit.shutdown({ timeoutMillis: 10_000 }).then(() => process.exit(0));
  });
}
