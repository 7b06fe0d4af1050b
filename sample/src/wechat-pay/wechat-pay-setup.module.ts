import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from './embedded-simulator';

/** Provides the embedded simulator (or its absence) to the WeChat Pay module's factory and to the shop. */
@Module({
  providers: [
    {
      provide: EmbeddedSimulator,
      inject: [ConfigService, SampleSettings],
      useFactory: (config: ConfigService, settings: SampleSettings) =>
        EmbeddedSimulator.start(config, settings),
    },
  ],
  exports: [EmbeddedSimulator],
})
export class WechatPaySetupModule {}
