/** The HTTP interface: the app (routes, metrics) and the process that serves it. */
export { type AppOptions, buildApp, createApp, type ServedRoute, servedRoutes } from './app.ts';
export { createGateway, mountGateway } from './gateway.ts';
export { escapeHtml } from './html.ts';
export { createLogger, exitOnSignals, type RunningServer, type StartOptions, startServer } from './main.ts';
export { createMetrics, type Metrics } from './metrics.ts';
export { buildPlatformApp, notificationChannel, type PlatformAppOptions } from './platform-app.ts';
