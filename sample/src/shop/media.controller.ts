import { Controller, Post } from '@nestjs/common';
import { WechatPayMediaService, WechatPayOrdersService } from 'nestjs-wechat-partner-pay';

/**
 * Media upload (图片上传): a platform uploads its sub-merchants' pictures (shop front, licence) for onboarding (进件)
 * and gets a `media_id` to put in the application. The sample uploads a generated PNG as the shop's logo; the
 * signature covers the multipart `meta` part only, as WeChat Pay requires.
 */
@Controller('api/media')
export class MediaController {
  constructor(
    private readonly media: WechatPayMediaService,
    private readonly orders: WechatPayOrdersService,
  ) {}

  @Post('shop-logo')
  async uploadShopLogo(): Promise<{ media_id: string; bytes: number }> {
    // Any PNG will do for the demo: a QR code of the shop's address, rendered by the orders service.
    const png = await this.orders.renderNativeQrCode('weixin://wxpay/bizpayurl?pr=shoplogo', { format: 'png', size: 256 });
    const { media_id } = await this.media.uploadImage({ filename: 'shop-logo.png', file: png });
    return { media_id, bytes: png.length };
  }
}
