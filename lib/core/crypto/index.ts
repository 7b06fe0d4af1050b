/**
 * `nestjs-wechat-partner-pay/crypto`: the primitives the module signs, verifies and encrypts with (request signer,
 * response and notification verifier, key store, AES-256-GCM, RSA-OAEP, RSA-SHA256), for code outside Nest.
 *
 * @packageDocumentation
 * @module crypto
 */
export * from './aes-gcm';
export * from './canonical-message';
export * from './headers';
export * from './key-store';
export * from './keys';
export * from './nonce';
export * from './request-signer';
export * from './rsa-oaep';
export * from './rsa-signature';
export * from './verifier';
