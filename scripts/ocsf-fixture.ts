/**
 * Derives test/fixtures/ocsf-1.6.0-compliance-finding.json from the published OCSF schema: the
 * Compliance Finding class (with its base classes, and the `cloud` profile the events declare) and the
 * objects the events use, each attribute with its base type, array-ness, requirement (required,
 * recommended, optional) and enumeration, and each object's constraints. test/core/finding-formats
 * .test.ts builds a JSON Schema from it and validates `--output ocsf` against it.
 *
 *   node scripts/ocsf-fixture.ts <git dir of github.com/ocsf/ocsf-schema> [ref, default v1.6.0]
 *   prettier --write test/fixtures/ocsf-1.6.0-compliance-finding.json
 *
 * It reads the schema's source files at the ref with git (`git show <ref>:<file>`), and writes only the
 * facts above (no descriptions): the fixture names the repository, ref, commit and files it came from.
 * Resolution follows the schema's rules as far as these classes need: a class or object extends its
 * parent (attributes merged, the child's keys winning, enumerations merged by value), a dictionary
 * attribute gives the type and base enumeration, `$include` brings in a profile's attributes only for
 * the profiles declared (PROFILES), and a subtype (`timestamp_t`) resolves to its base type.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';

/** The version and class the CLI writes (core/ocsf.ts), and the profiles its events declare. */
const REF = process.argv[3] ?? 'v1.6.0';
const CLASS_FILE = 'events/findings/compliance_finding.json';
const PROFILES = new Set(['cloud']);
/** The objects the events carry: their definitions go into the fixture (others stay opaque). */
const USED_OBJECTS = [
  'metadata',
  'product',
  'cloud',
  'account',
  'finding_info',
  'compliance',
  'remediation',
  'resource_details',
];
export const FIXTURE_FILE = new URL('../test/fixtures/ocsf-1.6.0-compliance-finding.json', import.meta.url);

type Json = Record<string, unknown>;

interface Attribute {
  type: string;
  object_type?: string;
  is_array?: true;
  requirement: string;
  enum?: number[] | string[];
}

interface Definition {
  name: string;
  attributes: Record<string, Attribute>;
  constraints?: Json;
}

const gitDir = process.argv[2];
if (import.meta.main && gitDir === undefined) {
  process.stderr.write('usage: node scripts/ocsf-fixture.ts <ocsf-schema git dir> [ref]\n');
  process.exit(1);
}

const files = new Set<string>();
function read(file: string): Json {
  files.add(file);
  return JSON.parse(
    execFileSync('git', ['--git-dir', gitDir ?? '', 'show', `${REF}:${file}`], { encoding: 'utf8' }),
  ) as Json;
}

const dictionary = read('dictionary.json');
const dictAttributes = dictionary.attributes as Record<string, Json>;
const types = (dictionary.types as { attributes: Record<string, Json> }).attributes;

function baseType(type: string): string {
  let current = type;
  for (;;) {
    const parent = types[current]?.type;
    if (typeof parent !== 'string') return current;
    current = parent;
  }
}

function mergeEnum(base: Json | undefined, override: Json | undefined): Json | undefined {
  if (base === undefined) return override;
  if (override === undefined) return base;
  return { ...base, ...override };
}

/** A file's own attributes, with the `$include`d ones of the declared profiles (and of non-profiles). */
function ownAttributes(file: Json): Record<string, Json> {
  const attributes = { ...(file.attributes as Record<string, Json>) };
  const includes = (attributes.$include as unknown as string[] | undefined) ?? [];
  delete attributes.$include;
  let merged: Record<string, Json> = {};
  for (const include of includes) {
    const profile = /^profiles\/(\w+)\.json$/.exec(include)?.[1];
    if (profile !== undefined && !PROFILES.has(profile)) continue;
    merged = { ...merged, ...((read(include).attributes as Record<string, Json> | undefined) ?? {}) };
  }
  // An attribute a profile owns (`profile: <name>`) counts only when that profile is declared.
  return Object.fromEntries(
    Object.entries({ ...merged, ...attributes }).filter(([, value]) => {
      const profile = value.profile;
      return typeof profile !== 'string' || PROFILES.has(profile);
    }),
  );
}

function resolve(
  kind: 'events' | 'objects',
  file: string,
): { attributes: Record<string, Json>; constraints?: Json } {
  const own = read(file);
  const parentName = own.extends as string | undefined;
  let inherited: { attributes: Record<string, Json>; constraints?: Json } = { attributes: {} };
  if (parentName !== undefined) {
    const parentFile =
      kind === 'objects'
        ? `objects/${parentName}.json`
        : parentName === 'base_event'
          ? 'events/base_event.json'
          : `events/findings/${parentName}.json`;
    inherited = resolve(kind, parentFile);
  }
  const attributes: Record<string, Json> = { ...inherited.attributes };
  for (const [name, value] of Object.entries(ownAttributes(own))) {
    const before = attributes[name] ?? {};
    attributes[name] = {
      ...before,
      ...value,
      enum: mergeEnum(before.enum as Json | undefined, value.enum as Json | undefined),
    };
  }
  const constraints = (own.constraints as Json | undefined) ?? inherited.constraints;
  return { attributes, ...(constraints === undefined ? {} : { constraints }) };
}

function finish(
  name: string,
  resolved: { attributes: Record<string, Json>; constraints?: Json },
): Definition {
  const attributes: Record<string, Attribute> = {};
  for (const [attribute, value] of Object.entries(resolved.attributes).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const dict = dictAttributes[attribute] ?? {};
    const type = (value.type as string | undefined) ?? (dict.type as string);
    const isObject = types[type] === undefined;
    const values = mergeEnum(dict.enum as Json | undefined, value.enum as Json | undefined);
    const base = isObject ? 'object' : baseType(type);
    attributes[attribute] = {
      type: base,
      ...(isObject ? { object_type: type } : {}),
      ...((value.is_array ?? dict.is_array) === true ? { is_array: true as const } : {}),
      requirement: (value.requirement as string | undefined) ?? 'optional',
      ...(values === undefined
        ? {}
        : {
            enum: Object.keys(values)
              .map((key) => (base === 'string_t' ? key : Number(key)))
              .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) as number[] | string[],
          }),
    };
  }
  return {
    name,
    attributes,
    ...(resolved.constraints === undefined ? {} : { constraints: resolved.constraints }),
  };
}

if (import.meta.main) {
  const category = read('categories.json') as { attributes: Record<string, { uid: number }> };
  const klass = read(CLASS_FILE) as { uid: number; name: string; category?: string };
  const categoryName = 'findings';
  const categoryUid = category.attributes[categoryName]?.uid ?? 0;
  const classDefinition = finish(klass.name, resolve('events', CLASS_FILE));
  const objects = Object.fromEntries(
    USED_OBJECTS.map((name) => [name, finish(name, resolve('objects', `objects/${name}.json`))]),
  );
  const commit = execFileSync('git', ['--git-dir', gitDir ?? '', 'rev-parse', REF], {
    encoding: 'utf8',
  }).trim();
  const version = (read('version.json') as { version: string }).version;
  const fixture = {
    provenance: {
      repository: 'https://github.com/ocsf/ocsf-schema',
      ref: REF,
      commit,
      version,
      files: [...files].sort(),
      profiles: [...PROFILES],
      derivedBy: 'scripts/ocsf-fixture.ts',
    },
    class: {
      ...classDefinition,
      uid: categoryUid * 1000 + klass.uid,
      category_uid: categoryUid,
    },
    objects,
  };
  await writeFile(FIXTURE_FILE, `${JSON.stringify(fixture, null, 2)}\n`);
  process.stdout.write(`wrote ${FIXTURE_FILE.pathname} from ${REF} (${commit})\n`);
}
