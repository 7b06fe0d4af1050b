import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { APP_OPTIONS, bootstrap } from './bootstrap';

/** Fastify entry: `npm run sample:fastify`. The same module; only the adapter differs. */
bootstrap(() =>
  NestFactory.create<NestFastifyApplication>(AppModule.register(), new FastifyAdapter(), APP_OPTIONS),
);
