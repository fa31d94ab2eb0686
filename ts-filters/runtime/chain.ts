// Running a chain's hook over its filters. Request hooks run in chain order, response hooks in
// reverse (config.chains has them ordered). A hook that returns a promise stops the chain;
// once it settled, the native side calls onResume and the chain goes on after that filter.
// A hook that returns (or resolves to) a Response replies with it.
//
// Each direction runs its stages in order — headers, body chunks, trailers — and is only passed
// on (Continue) once every stage has seen what the filter holds. Body data and trailers that
// arrive while a hook of their direction is pending are held and shown to the chain afterwards.

import type { HttpFilterContext } from '../api/types';
import { BodyChunkView, type BodyFlow } from './body';
import { BufferKind, HookKind, HookOutcome, LogLevel, directionOf, isBodyHook } from './codes';
import type { ChainLink } from './config';
import { startSection } from './cpu-budget';
import { CONTINUE_CHAIN, applyFailure, asyncTimeoutError } from './failure';
import { hookDone, statsClock } from './hook-stats';
import { RUNTIME_PREFIX, describeError, filterPrefix, writeLog } from './log';
import type { HookOutcome as NativeHookOutcome, HookKind as NativeHookKind } from './native';
import { isResponse, respondWith } from './response-reply';
import type { PendingHook, StreamState } from './stream';
import { ObjectAssign, PromisePrototypeThen, ReflectApply, clearTimeout, setTimeout, thenOf } from './primordials';

type ChainHook = (argument: unknown, ctx: HttpFilterContext<unknown>) => unknown;

/**
 * The filter hook running now, if any: when the CPU watchdog stops JavaScript, this is the hook
 * that ran over (nothing resets it then), and the failure policy applies to its stream.
 */
export const runningHook: { stream: StreamState | undefined; link: ChainLink | undefined; hook: NativeHookKind;
                            position: number } = { stream: undefined, link: undefined, hook: 0, position: 0 };

/**
 * Envoy called `hook` and no hook of its direction is pending: run its chain (for a body hook,
 * over the chunk the filter holds). The caller sets stream.inHook, phase and endOfStream.
 */
export function startHook(stream: StreamState, hook: NativeHookKind, endOfStream: boolean): NativeHookOutcome {
  const direction = directionOf(hook);
  if (isBodyHook(hook)) {
    const flow = stream.flowOf(direction);
    flow.sawBody = true;
    if (endOfStream) flow.bodyEnded = true;
    if ((stream.config.chains[hook]?.length ?? 0) === 0) return stageDone(stream, hook);
    return runBodyStage(stream, hook, flow, endOfStream);
  }
  if (hook === HookKind.RequestTrailers || hook === HookKind.ResponseTrailers) {
    const flow = stream.existingFlow(direction);
    if (flow !== undefined) flow.trailersArrived = true;
  } else if (endOfStream) {
    stream.markHeadersEnded(direction);
  }
  return runChain(stream, hook, 0);
}

/**
 * Envoy called a body or trailers hook while a hook of the same direction is pending: hold what
 * came (Envoy keeps it) and show it to the chain once the pending hook is done.
 */
export function holdWhilePending(stream: StreamState, hook: NativeHookKind, endOfStream: boolean): NativeHookOutcome {
  const flow = stream.flowOf(directionOf(hook));
  if (isBodyHook(hook)) {
    flow.sawBody = true;
    flow.dataHeld = true;
    if (endOfStream) flow.bodyEnded = true;
  } else {
    flow.trailersArrived = true;
    flow.trailersHeld = true;
  }
  flow.completeWholeRead(stream);
  return HookOutcome.Pending;
}

// The body hooks of the chain over the held bytes they have not seen.
function runBodyStage(stream: StreamState, hook: NativeHookKind, flow: BodyFlow, endOfStream: boolean): NativeHookOutcome {
  const held = stream.binding.bufferLength(stream.slot, stream.gen, flow.direction);
  flow.chunk = new BodyChunkView(stream, flow.direction, flow.processed, held, endOfStream);
  if (endOfStream) flow.endDelivered = true;
  stream.phase = hook;
  stream.endOfStream = endOfStream;
  return runChain(stream, hook, 0);
}

// Every filter ran `hook`: go on with the direction's next stage, or pass the direction on.
function stageDone(stream: StreamState, hook: NativeHookKind): NativeHookOutcome {
  const direction = directionOf(hook);
  const flow = stream.existingFlow(direction);
  if (flow === undefined) return HookOutcome.Continue;
  const bodyHook = direction === BufferKind.Read ? HookKind.RequestBody : HookKind.ResponseBody;
  if (hook === bodyHook) {
    flow.processed = flow.chunk?.end ?? flow.processed;
    flow.retireChunk();
  }
  const trailersHook = direction === BufferKind.Read ? HookKind.RequestTrailers : HookKind.ResponseTrailers;
  if (hook !== trailersHook && flow.sawBody && (stream.config.chains[bodyHook]?.length ?? 0) > 0) {
    const held = stream.binding.bufferLength(stream.slot, stream.gen, direction);
    const endOfStream = flow.bodyEnded && !flow.trailersArrived;
    if (held > flow.processed || (endOfStream && !flow.endDelivered)) {
      return runBodyStage(stream, bodyHook, flow, endOfStream);
    }
  }
  if (flow.trailersHeld) {
    flow.trailersHeld = false;
    stream.phase = trailersHook;
    stream.endOfStream = true;
    return runChain(stream, trailersHook, 0);
  }
  flow.passOn();
  return HookOutcome.Continue;
}

/** Run `hook` for every filter of the chain from position `from`. The caller sets stream.inHook. */
export function runChain(stream: StreamState, hook: NativeHookKind, from: number): NativeHookOutcome {
  const chain = stream.config.chains[hook] ?? [];
  const argument = stream.argumentFor(hook);
  const clock = statsClock(stream.binding);
  // The stats clock at the last hook edge: a hook ends where the next one starts.
  let edge = -1;
  for (let i = from; i < chain.length; i++) {
    const link = chain[i] as ChainLink;
    if (stream.disabled(link.filter)) continue;
    const ctx = stream.contextFor(link.filter);
    const startedAt = edge < 0 ? clock() : edge;
    let result: unknown;
    // A hook run from inside another (a local reply encoded while a request hook runs) hands the
    // record back when it returns.
    const outer = runningHook.stream === undefined ? undefined : { ...runningHook };
    runningHook.stream = stream;
    runningHook.link = link;
    runningHook.hook = hook;
    runningHook.position = i;
    startSection(stream.config.watchSlots, link.filter.cpuBudgetMs);
    try {
      result = ReflectApply(link.hook as ChainHook, link.filter.definition, [argument, ctx]);
      if (isResponse(result)) result = respondWith(ctx, result);
    } catch (error) {
      leaveRunning(outer);
      hookDone(ctx, startedAt, clock());
      const outcome = applyFailure(stream, link, 'threw', error);
      edge = -1;  // what the failure policy took is no filter's
      if (outcome === CONTINUE_CHAIN) continue;
      return outcome;
    }
    leaveRunning(outer);
    if (result !== undefined && result !== null &&
        typeof (result as PromiseLike<unknown>).then === 'function') {
      const pending: PendingHook = { hook, link, position: i, startedAt, settledAt: undefined, settled: false,
                                     failed: false, error: undefined, timer: undefined };
      if (link.filter.asyncTimeoutMs > 0) {
        pending.timer = setTimeout(timeOut, link.filter.asyncTimeoutMs, stream, pending);
      }
      stream.startPending(pending);
      try {
        thenOf(result as PromiseLike<unknown>,
          (value: unknown) => {
            if (isResponse(value)) settleWithReply(stream, pending, ctx, value);
            else settle(stream, pending, false, undefined);
          },
          (error: unknown) => settle(stream, pending, true, error));
      } catch (error) {
        stream.endPending();
        const outcome = applyFailure(stream, link, 'threw', error);
        edge = -1;
        if (outcome === CONTINUE_CHAIN) continue;
        return outcome;
      }
      return HookOutcome.Pending;
    }
    edge = hookDone(ctx, startedAt, clock());
    if (stream.reply !== undefined) return sendReply(stream);
  }
  return stageDone(stream, hook);
}

function leaveRunning(outer: typeof runningHook | undefined): void {
  if (outer === undefined) {
    runningHook.stream = undefined;
    runningHook.link = undefined;
  } else {
    ObjectAssign(runningHook, outer);
  }
}

/** A pending hook's promise did not settle within its filter's asyncTimeoutMs: its work is
 *  aborted (ctx.signal) and the stream gets the failure policy. */
function timeOut(stream: StreamState, pending: PendingHook): void {
  if (stream.pending !== pending || stream.closed || pending.settled) return;
  const error = asyncTimeoutError(pending.link.hookName, pending.link.filter.asyncTimeoutMs);
  settle(stream, pending, true, error);
  stream.abortSignal(error);
}

/** The stream's pending hook settled: note how, and ask native for onResume. */
export function settle(stream: StreamState, pending: PendingHook, failed: boolean, error: unknown): void {
  // Destroyed, or superseded (e.g. a local reply from elsewhere started the response phase).
  if (stream.pending !== pending || stream.closed || pending.settled) return;
  if (pending.timer !== undefined) clearTimeout(pending.timer);
  pending.settled = true;
  pending.settledAt = statsClock(stream.binding)();
  pending.failed = failed;
  pending.error = error;
  try {
    stream.binding.requestResume(stream.slot, stream.gen);
  } catch (err) {
    writeLog(stream.binding, LogLevel.Debug, RUNTIME_PREFIX,
             `requestResume(${stream.slot}, ${stream.gen}) failed: ${describeError(err)}`, []);
  }
}

/** The pending hook resolved to a Response: settle once its reply is requested. */
function settleWithReply(stream: StreamState, pending: PendingHook, ctx: HttpFilterContext<unknown>,
                         response: Response): void {
  if (stream.pending !== pending || stream.closed) return;
  try {
    const reading = respondWith(ctx, response);
    if (reading === undefined) {
      settle(stream, pending, false, undefined);
    } else {
      PromisePrototypeThen(reading, () => settle(stream, pending, false, undefined),
                           (error: unknown) => settle(stream, pending, true, error));
    }
  } catch (error) {
    settle(stream, pending, true, error);
  }
}

/**
 * Apply a settled pending hook (inside the stream's scheduled callback): its failure, its reply,
 * or the rest of the chain. Pending when there is nothing to apply (a spurious resume).
 */
export function resumeChain(stream: StreamState): NativeHookOutcome {
  const pending = stream.pending;
  if (pending === undefined || !pending.settled) return HookOutcome.Pending;
  stream.endPending();
  if (pending.failed) {
    const outcome = applyFailure(stream, pending.link, 'rejected', pending.error);
    if (outcome !== CONTINUE_CHAIN) return outcome;
  } else if (stream.reply !== undefined) {
    return sendReply(stream);
  }
  return runChain(stream, pending.hook, pending.position + 1);
}

/** Send the reply a filter requested with ctx.respond(). */
function sendReply(stream: StreamState): NativeHookOutcome {
  const reply = stream.reply;
  if (reply === undefined) return HookOutcome.Continue;
  stream.reply = undefined;
  stream.replied = true;
  try {
    stream.binding.sendLocalReply(stream.slot, stream.gen, reply.status, reply.headers, reply.body,
                                  reply.details);
  } catch (error) {
    writeLog(stream.binding, LogLevel.Error, RUNTIME_PREFIX, `sendLocalReply failed: ${describeError(error)}`, []);
  }
  return HookOutcome.Replied;
}

/** Run every onStreamComplete hook (synchronous; a throw is logged and the others still run). */
export function runCompleteChain(stream: StreamState): void {
  const chain = stream.config.completeChain;
  for (let i = 0; i < chain.length; i++) {
    const { filter, hook } = chain[i] as (typeof chain)[number];
    if (stream.disabled(filter)) continue;
    try {
      ReflectApply(hook, filter.definition, [stream.contextFor(filter)]);
    } catch (error) {
      writeLog(stream.binding, LogLevel.Error, filterPrefix(filter.name), `onStreamComplete threw: ${describeError(error)}`, []);
    }
  }
}
