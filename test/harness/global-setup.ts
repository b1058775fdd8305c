// vitest globalSetup of the `integration` project: one patched moto server for the whole run.
// Tests reach it through inject('motoEndpoint') (see test/harness/aws.ts) and isolate themselves by
// account id, so no test resets the server.
import type { TestProject } from 'vitest/node';
import { startMoto } from './moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    await moto.stop();
  };
}
