import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, Matches, ValidateNested } from 'class-validator';
import { PRODUCTS } from './catalog';

/** One line of a cart: a product sold by a sub-merchant. The price is looked up on the server. */
export class CartItemDto {
  @IsIn(PRODUCTS.map((p) => p.id), { message: 'productId must be one of the shop products' })
  productId!: string;

  @Matches(/^\d{1,32}$/, { message: 'subMchid must be a sub-merchant id (digits)' })
  subMchid!: string;
}

/** A cart to pay with one combine order. WeChat Pay allows 50 sub-orders; a demo cart needs far fewer. */
export class CreateCartDto {
  @IsArray()
  @ArrayMinSize(1, { message: 'the cart is empty' })
  @ArrayMaxSize(10, { message: 'a cart of this shop holds at most 10 lines' })
  @ValidateNested({ each: true })
  @Type(() => CartItemDto)
  items!: CartItemDto[];
}
