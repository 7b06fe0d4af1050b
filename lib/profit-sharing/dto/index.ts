export * from './profit-sharing-request.dto';
export * from './profit-sharing.dto';
export * from './profit-sharing-resource.dto';
