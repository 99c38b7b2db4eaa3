export * from './routing-key.codec';
export * from './topology';
export * from './errors';
export * from './inbound-message';
export * from './batch-consumer';
export * from './amqp-topology';
export * from './amqp.transport';
export * from './publisher';
