/**
 * Sends alerts: each one an AWS Chatbot custom notification published to the alerts topic, where a
 * Chatbot channel configuration (or the Slack webhook notifier) picks it up.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { ChatbotNotification } from '../core/chatbot.ts';

export interface AlertPublisher {
  /** Publishes one message (a notification's JSON text); resolves to the SNS message id. */
  publish(message: string): Promise<string>;
}

/** The SNS message of a notification. */
export function alertMessage(notification: ChatbotNotification): string {
  return JSON.stringify(notification);
}

/** SNS's limit on a message (256 KB); ours stay far below it (core/chatbot.ts caps every section). */
const SNS_MAX_BYTES = 256 * 1024;

export class AlertTooLargeError extends Error {
  constructor(bytes: number) {
    super(`alert of ${bytes} bytes exceeds SNS's ${SNS_MAX_BYTES}`);
    this.name = 'AlertTooLargeError';
  }
}

export function createSnsPublisher(client: SNSClient, topicArn: string): AlertPublisher {
  return {
    async publish(message) {
      const bytes = Buffer.byteLength(message);
      if (bytes > SNS_MAX_BYTES) throw new AlertTooLargeError(bytes);
      const out = await client.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
      return out.MessageId ?? '';
    },
  };
}
