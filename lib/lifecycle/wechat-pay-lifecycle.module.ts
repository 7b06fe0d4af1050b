import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BullMqLifecycleScheduler } from './bullmq.scheduler';
import { InProcessLifecycleScheduler } from './in-process.scheduler';
import { LIFECYCLE_OPTIONS, LIFECYCLE_SCHEDULER } from './lifecycle.constants';
import { type ResolvedLifecycleOptions, resolveLifecycleOptions, type WechatPayLifecycleModuleOptions } from './lifecycle.options';
import type { LifecycleScheduler } from './lifecycle-scheduler';
import { WechatPayLifecycleMetrics } from './lifecycle-metrics';
import { WECHAT_PAY_LIFECYCLE_MODULE_OPTIONS, WechatPayLifecycleConfigurableModule } from './wechat-pay-lifecycle.module-definition';
import { WechatPayOrderWatchService } from './wechat-pay-order-watch.service';
import { WechatPayReconciliationService } from './wechat-pay-reconciliation.service';

/** Starts this instance's worker once every module is initialised (handlers registered), stops it on shutdown. */
@Injectable()
class LifecycleRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(LIFECYCLE_OPTIONS) private readonly options: ResolvedLifecycleOptions,
    @Inject(LIFECYCLE_SCHEDULER) private readonly scheduler: LifecycleScheduler,
    private readonly watch: WechatPayOrderWatchService,
    private readonly reconciliation: WechatPayReconciliationService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.scheduler.start({
      watch: (d) => this.watch.step(d),
      reconcile: async () => void (await this.reconciliation.reconcile()),
    });
    if (this.options.daily) await this.scheduler.scheduleDaily(this.options.daily.hour, this.options.daily.minute);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}

function createScheduler(o: ResolvedLifecycleOptions): LifecycleScheduler {
  const s = o.scheduler;
  return s.type === 'bullmq' ? new BullMqLifecycleScheduler(s, o.retry) : new InProcessLifecycleScheduler(o.retry, o.clock);
}

/**
 * The order watch and the daily reconciliation on a job engine (BullMQ, or timers in one process). Needs
 * `WechatPartnerPayModule` registered with `isGlobal: true`; enable shutdown hooks (`app.enableShutdownHooks()`)
 * so that a stopping instance hands its jobs back at once.
 */
@Module({
  providers: [
    { provide: LIFECYCLE_OPTIONS, inject: [WECHAT_PAY_LIFECYCLE_MODULE_OPTIONS], useFactory: (o: WechatPayLifecycleModuleOptions) => resolveLifecycleOptions(o) },
    { provide: LIFECYCLE_SCHEDULER, inject: [LIFECYCLE_OPTIONS], useFactory: createScheduler },
    WechatPayLifecycleMetrics,
    WechatPayOrderWatchService,
    WechatPayReconciliationService,
    LifecycleRunner,
  ],
  exports: [WechatPayLifecycleMetrics, WechatPayOrderWatchService, WechatPayReconciliationService],
})
export class WechatPayLifecycleModule extends WechatPayLifecycleConfigurableModule {}
