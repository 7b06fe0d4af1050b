import { type INestApplication, Logger } from '@nestjs/common';
import { SampleSettings } from './settings';
import { EmbeddedSimulator } from './wechat-pay/embedded-simulator';

/**
 * Options both entry points create the app with. rawBody: the notification guard verifies the signature over the
 * exact bytes WeChat Pay sent. forceCloseConnections: open live-update streams must not hold up Ctrl-C.
 * abortOnError: false, so that a boot error is reported below instead of aborting the process.
 */
export const APP_OPTIONS = { rawBody: true, forceCloseConnections: true, abortOnError: false } as const;

/** Creates the app, listens where the settings say (the notify_url was built from that port) and prints where to go. */
export function bootstrap(create: () => Promise<INestApplication>): void {
  const logger = new Logger('Sample');
  const start = async (): Promise<void> => {
    const app = await create();
    const settings = app.get(SampleSettings);
    const { simulator } = app.get(EmbeddedSimulator);
    app.enableShutdownHooks();
    await app.listen(settings.port, settings.host);
    logger.log(`Shop cashier: ${settings.publicUrl}/`);
    logger.log(
      simulator
        ? `Payments are simulated by ${simulator.baseUrl} (no real money)`
        : 'Payments go to the real WeChat Pay',
    );
  };
  start().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    const hint =
      (err as { code?: unknown }).code === 'EADDRINUSE' ? ' (set another PORT in sample/.env)' : '';
    logger.error(`${message}${hint}`);
    // exit(): an embedded simulator that already started would otherwise keep the process alive.
    process.exit(1);
  });
}
