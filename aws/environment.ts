/**
 * The deployed functions' settings, read from their environment (serverless.yml sets each; the
 * params behind them are documented in docs/deploy.md). A bad setting fails the cold start loudly.
 */
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import type { Mode } from '../core/alerts.ts';
import type { Config } from '../core/config.ts';
import { parseConfig } from '../core/config.ts';

export interface ReconcilerSettings {
  readonly mode: Mode;
  readonly regions: readonly string[];
  readonly config: Config;
  readonly tableName: string;
  readonly topicArn: string;
  readonly digestIntervalMs: number;
  /** Param `securityHubExport`: send findings to Security Hub (aws/securityhub-export.ts). */
  readonly securityHubExport: boolean;
}

export class SettingsError extends Error {
  constructor(problems: readonly string[]) {
    super(`bad function settings: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

// zod/mini ships no messages ("Invalid input" for every issue): install zod's English ones, which
// a SettingsError has always quoted.
z.config(en());

const settingsSchema = z.object({
  MODE: z._default(z.enum(['report', 'enforce']), 'report'),
  REGIONS: z.optional(z.string()),
  AWS_REGION: z.optional(z.string()),
  CONFIG: z._default(z.string(), '{}'),
  TABLE_NAME: z.string().check(z.minLength(1, 'TABLE_NAME is required')),
  TOPIC_ARN: z.string().check(z.regex(/^arn:aws[a-z-]*:sns:/, 'TOPIC_ARN must be an SNS topic ARN')),
  DIGEST_HOURS: z._default(z.coerce.number().check(z.positive()), 24),
  SECURITY_HUB_EXPORT: z._default(
    z.enum(['true', 'false', ''], 'SECURITY_HUB_EXPORT must be true or false'),
    'false',
  ),
});

/** Reads the reconciler's settings; throws {@link SettingsError} (or the config's ConfigError). */
export function reconcilerSettings(env: Readonly<Record<string, string | undefined>>): ReconcilerSettings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new SettingsError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const s = parsed.data;
  const regions = (s.REGIONS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const config = parseConfig(JSON.parse(s.CONFIG));
  const chosen =
    regions.length > 0
      ? regions
      : config.regions.length > 0
        ? config.regions
        : s.AWS_REGION
          ? [s.AWS_REGION]
          : [];
  if (chosen.length === 0)
    throw new SettingsError(['no Region: set REGIONS (or the config regions, or AWS_REGION)']);
  return {
    mode: s.MODE,
    regions: chosen,
    config,
    tableName: s.TABLE_NAME,
    topicArn: s.TOPIC_ARN,
    digestIntervalMs: s.DIGEST_HOURS * 3600 * 1000,
    securityHubExport: s.SECURITY_HUB_EXPORT === 'true',
  };
}
