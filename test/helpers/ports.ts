// The tests and scripts use the same helper as the Admin Panel (which picks its destinations' ports with it).
export { freePort } from '../../src/gateway/ports.js';
