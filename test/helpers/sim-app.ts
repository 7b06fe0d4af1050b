import { Test, type TestingModule } from '@nestjs/testing';
import { WechatPartnerPayModule, type WechatPartnerPayModuleOptions } from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator, type SimulatorOptions } from 'nestjs-wechat-partner-pay/testing';

/** A simulator and a compiled Nest module whose WechatPartnerPayModule points at it. */
export interface SimApp {
  sim: WechatPaySimulator;
  ref: TestingModule;
  close(): Promise<void>;
}

type Overrides = Partial<WechatPartnerPayModuleOptions> | ((sim: WechatPaySimulator) => Partial<WechatPartnerPayModuleOptions>);

/** Starts a simulator and a testing module configured against it; the simulator is closed if the module fails. */
export async function startSimApp(overrides: Overrides = {}, simOptions: SimulatorOptions = {}): Promise<SimApp> {
  const sim = await WechatPaySimulator.start(simOptions);
  try {
    const o = typeof overrides === 'function' ? overrides(sim) : overrides;
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot({ notifyUrl: 'https://shop.example.com/wechatpay/notify', ...sim.moduleOptions(o) })],
    }).compile();
    await ref.init();
    return {
      sim,
      ref,
      async close() {
        await ref.close();
        await sim.close();
      },
    };
  } catch (e) {
    await sim.close();
    throw e;
  }
}
