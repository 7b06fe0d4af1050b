import { WechatPayError } from '../core/errors/wechat-pay.errors';

/** Invalid `WechatPayLifecycleModule` options; `problems` lists every one found. */
export class WechatPayLifecycleConfigError extends WechatPayError {
  constructor(public readonly problems: readonly string[]) {
    super(
      `Invalid WechatPayLifecycleModule options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/** A lifecycle call that cannot work as made (what to change is in the message). */
export class WechatPayLifecycleError extends WechatPayError {}
