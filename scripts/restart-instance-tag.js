// serverless.yml's `${file(./scripts/restart-instance-tag.js):condition}`: the IAM condition that
// scopes the reconciler's ssm:SendCommand to instances tagged `restartInstanceTag` (`key=value`). A
// variable cannot name a condition key in serverless.yml (osls resolves values, not keys), hence this.
// An empty param yields a placeholder that serverless.yml leaves out (Fn::If on
// RestartInstancesTagged). docs/deploy.md, IAM.

/** @param {{ resolveVariable: (name: string) => Promise<unknown> }} osls */
export const condition = async ({ resolveVariable }) => {
  const raw = await resolveVariable('param:restartInstanceTag');
  const param = typeof raw === 'string' ? raw.trim() : '';
  if (param === '') return { StringEquals: {} };
  const at = param.indexOf('=');
  const key = at > 0 ? param.slice(0, at).trim() : '';
  const value = at > 0 ? param.slice(at + 1).trim() : '';
  if (!key || !value || !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u.test(key))
    throw new Error(
      `restartInstanceTag must be key=value (a tag of the container instances), got "${param}"`,
    );
  return { StringEquals: { [`ssm:resourceTag/${key}`]: value } };
};
