import { Module } from '@nestjs/common';
import { BillsController } from './bills.controller';
import { ShopBillsService } from './shop-bills.service';

/** Trade bills (交易账单). */
@Module({
  controllers: [BillsController],
  providers: [ShopBillsService],
})
export class BillsModule {}
