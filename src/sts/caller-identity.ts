import type { QueryOperation } from '../iam/operation.js';

/** GetCallerIdentity: who signed the request (root, a user, or a role session); callable by everyone. */
export const getCallerIdentity: QueryOperation = {
  members: [],
  async run(env, caller) {
    return { UserId: caller.userId, Account: env.accountId, Arn: caller.principalArn };
  },
};
