// The failure policy, in one place: a filter that throws or rejects poisons its stream; "closed"
// answers with a 500 local reply, "open" logs and lets the chain continue with the next filter.

import { FAILURE_REPLY, FailurePolicy, HookOutcome, LogLevel } from './codes';
import type { ChainLink } from './config';
import { RUNTIME_PREFIX, describeError, filterPrefix, writeLog } from './log';
import type { HookOutcome as NativeHookOutcome } from './native';
import type { StreamState } from './stream';

/** applyFailure's answer under the "open" policy: run the next filter of the current hook. */
export const CONTINUE_CHAIN = -1;

/**
 * A filter's hook threw (or its promise rejected): log it with the filter's name and the stack,
 * poison the stream (later hooks do not run), and apply the config's policy.
 */
export function applyFailure(stream: StreamState, link: ChainLink, verb: 'threw' | 'rejected',
                             error: unknown): NativeHookOutcome | typeof CONTINUE_CHAIN {
  stream.poisoned = true;
  stream.reply = undefined;
  writeLog(stream.binding, LogLevel.Error, filterPrefix(link.filter.name),
           `${link.hookName} ${verb}: ${describeError(error)}`, []);
  if (stream.config.failurePolicy === FailurePolicy.Open) return CONTINUE_CHAIN;
  return sendFailureReply(stream);
}

/**
 * Answer the stream with the generic 500 of the "closed" policy. When a local reply was already
 * sent (its response is what is failing), Envoy cannot send another one: let that reply go on.
 */
export function sendFailureReply(stream: StreamState): NativeHookOutcome {
  stream.poisoned = true;
  stream.reply = undefined;
  if (stream.closed) return HookOutcome.Continue;
  if (stream.replied) return HookOutcome.Continue;
  stream.replied = true;
  try {
    stream.binding.sendLocalReply(stream.slot, stream.gen, FAILURE_REPLY.status, [], FAILURE_REPLY.body,
                                  FAILURE_REPLY.details);
  } catch (error) {
    writeLog(stream.binding, LogLevel.Error, RUNTIME_PREFIX,
             `sendLocalReply for the failure policy failed: ${describeError(error)}`, []);
  }
  return HookOutcome.Replied;
}
