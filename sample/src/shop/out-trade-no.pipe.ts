import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import { OUT_TRADE_NO_PATTERN } from 'nestjs-wechat-partner-pay';

/** Rejects anything that cannot be an out_trade_no before it reaches the database or WeChat Pay. */
@Injectable()
export class OutTradeNoPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!OUT_TRADE_NO_PATTERN.test(value)) throw new BadRequestException('not an order number');
    return value;
  }
}
