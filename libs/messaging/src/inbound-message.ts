// What a batch handler receives for each delivery, and what it answers.

export interface InboundMessage {
  content: Buffer;
  exchange: string;
  routingKey: string;
  headers: Record<string, unknown>;
  redelivered: boolean;
}

export interface BatchVerdict {
  /** Messages of the batch that can never be processed, by index, with the reason. */
  rejected: { index: number; reason: string }[];
}

export type BatchHandler = (batch: InboundMessage[]) => Promise<BatchVerdict>;
