// Starts the example document service. Environment: PORT (3000), the standard OTEL_* variables for
// where events go, AUDIT_SPOOL_DIR (a durable spool, recommended), TRUSTED_PROXIES (0).
import { gristCatalog } from '../../src/catalog/catalogs/grist/index.js';
import { createAuditLogger } from '../../src/index.js';
import { createApp } from './app.js';

const audit = createAuditLogger({
  catalog: gristCatalog,
  serviceName: 'docs-service',
  serviceVersion: '1.0.0',
  spoolDir: process.env['AUDIT_SPOOL_DIR'],
  onError: (error) => console.error(`audit: ${error.message}`),
});
const port = Number(process.env['PORT'] ?? 3000);
const server = createApp(audit).listen(port, '127.0.0.1', () => console.log(`docs-service listening on http://127.0.0.1:${port}`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    // What is not delivered in 10 s stays in the spool for the next start.
    audit.shutdown({ timeoutMillis: 10_000 }).then(
      () => process.exit(0),
      (error: Error) => (console.error(`audit: ${error.message}`), process.exit(1)),
    );
  });
}
