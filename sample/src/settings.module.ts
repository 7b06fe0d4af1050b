import { type DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SAMPLE_OVERRIDES, type SampleOverrides, SampleSettings } from './settings';

/** `SampleSettings` for every module, resolved from the environment and `AppModule.register()` overrides. */
@Global()
@Module({})
export class SettingsModule {
  static forRoot(overrides: SampleOverrides): DynamicModule {
    return {
      module: SettingsModule,
      providers: [
        { provide: SAMPLE_OVERRIDES, useValue: overrides },
        {
          provide: SampleSettings,
          inject: [ConfigService, SAMPLE_OVERRIDES],
          useFactory: (config: ConfigService, o: SampleOverrides) => SampleSettings.resolve(config, o),
        },
      ],
      exports: [SampleSettings],
    };
  }
}
