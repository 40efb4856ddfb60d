/** Who makes a change from the command line, for the audit log: the OS user running the command. */
import { userInfo } from 'node:os';

export function osActor(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
