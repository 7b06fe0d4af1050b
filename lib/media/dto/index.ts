export * from './media-upload.dto';
