import { IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { PRODUCTS } from './catalog';
import { ORDER_SCENES, type OrderScene } from './orders.repository';

/** What the cashier sends to buy something. The price is not part of it: the server looks it up. */
export class CreateOrderDto {
  @IsIn(PRODUCTS.map((p) => p.id), { message: 'productId must be one of the shop products' })
  productId!: string;

  @Matches(/^\d{1,32}$/, { message: 'subMchid must be a sub-merchant id (digits)' })
  subMchid!: string;

  @IsIn(ORDER_SCENES, { message: `scene must be one of ${ORDER_SCENES.join(', ')}` })
  scene!: OrderScene;

  /** JSAPI only: the payer's openid under sp_appid (a real one comes from WeChat's OAuth; the simulator takes any). */
  @IsOptional()
  @IsString()
  @Length(1, 128)
  openid?: string;
}
