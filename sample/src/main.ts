import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { APP_OPTIONS, bootstrap } from './bootstrap';

/** Express entry (the default): `npm run sample`. */
bootstrap(() => NestFactory.create<NestExpressApplication>(AppModule.register(), APP_OPTIONS));
