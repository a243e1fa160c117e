export * from './sku';
export * from './catalogue';
