import { parseArgs } from 'node:util';
import { changeRole, deleteUser, disableUser, enableUser, setPassword } from '../admin/user-admin.js';
import type { AppContext } from '../context.js';
import { errors, pageKeyOf } from '../core/errors.js';
import { roleOf } from '../core/roles.js';
import { listUsersForAdmin } from '../db/repositories/admin.js';
import { findUserByUsername } from '../db/repositories/users.js';

/** `shoebox user list|set-password|set-role|disable|enable|delete`: the dashboard's user actions for when the web is out of reach. */
export const USER_ADMIN_USAGE = `  user list [--search TEXT]                   every account: role, state, files, bytes, last seen
  user set-password NAME --password PW        set a password (NAME is signed out everywhere)
  user set-role NAME admin|manager|user       change a role (the last admin stays an admin)
  user disable NAME                           NAME cannot sign in and their API key stops
  user enable NAME
  user delete NAME [--keep-files]             delete the account and its files (or keep them as guest files)`;

export class CliUsageError extends Error {}

async function target(ctx: AppContext, name: string | undefined) {
  if (!name) throw new CliUsageError('a user name is required');
  const user = await findUserByUsername(ctx.db, name);
  if (!user) throw errors.noSuchUser(name);
  return user;
}

/** Runs one `user` subcommand (not `create`, which main.ts keeps); returns the lines to print. */
export async function runUserAdminCommand(ctx: AppContext, sub: string, args: string[]): Promise<string[]> {
  const services = { db: ctx.db, storage: ctx.storage };
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { password: { type: 'string' }, 'keep-files': { type: 'boolean', default: false }, search: { type: 'string', default: '' } },
  });
  try {
    switch (sub) {
      case 'list': {
        const lines = ['USERNAME\tROLE\tSTATE\tFILES\tBYTES\tLAST SEEN\tCREATED'];
        for (let offset = 0; ; offset += 500) {
          const { users } = await listUsersForAdmin(ctx.db, { search: values.search!, sort: 'username', descending: false, offset, limit: 500 });
          for (const u of users) {
            lines.push([u.username, roleOf(u), u.disabled_at ? 'disabled' : 'active', u.files, u.bytes, u.last_seen ?? '-', u.created_at].join('\t'));
          }
          if (users.length < 500) break;
        }
        return lines;
      }
      case 'set-password': {
        const user = await target(ctx, positionals[0]);
        if (!values.password) throw new CliUsageError('user set-password needs --password');
        await setPassword(services, 'cli', user, values.password);
        return [`password of ${user.username} changed; signed out everywhere`];
      }
      case 'set-role': {
        const user = await target(ctx, positionals[0]);
        if (!positionals[1]) throw new CliUsageError('user set-role needs a role: admin, manager or user');
        await changeRole(services, 'cli', user, positionals[1]);
        return [`${user.username} is now ${positionals[1]}`];
      }
      case 'disable': {
        const user = await target(ctx, positionals[0]);
        await disableUser(services, 'cli', user);
        return [`${user.username} is disabled: cannot sign in, API key refused`];
      }
      case 'enable': {
        const user = await target(ctx, positionals[0]);
        await enableUser(services, 'cli', user);
        return [`${user.username} is enabled`];
      }
      case 'delete': {
        const user = await target(ctx, positionals[0]);
        const keepFiles = values['keep-files']!;
        const deleted = await deleteUser(services, 'cli', user, { keepFiles });
        return [keepFiles ? `deleted ${user.username}; their files are kept as guest files` : `deleted ${user.username} and ${deleted} files`];
      }
      default:
        throw new CliUsageError(`unknown user command "${sub}"`);
    }
  } catch (error) {
    // The admin rules' refusals (errors of the table with a dashboard text) are the command's refusals.
    if (pageKeyOf(error)) throw errors.commandRefused((error as Error).message);
    throw error;
  }
}
