/**
 * The TCP handle wraps of runtime/process-hooks: `TCP.prototype.connect` /
 * `connect6` (the fd exists and the SYN is out; a happy-eyeballs attempt
 * without an owner yet is adopted when it completes), `setKeepAlive`,
 * `readStop` and `close`. Installed once, with the first outbound connect or
 * the first TCP server that listens or accepts, whichever comes first.
 */
import { Fn, HookListener, HookState, ownerIn, report, TcpHandle } from './hook-state';
import { noticeHttp2 } from './write-hooks';

const timesConnect = (l: HookListener): boolean => l.connectDone !== undefined;

export function wrapTcp(s: HookState, handle: object): void {
  const proto = Object.getPrototypeOf(handle) as Record<string, Fn> | null;
  if (!proto || s.tcpProto || proto.constructor?.name !== 'TCP') return;
  s.tcpProto = proto;
  const L = s.listeners;
  for (const [name, family] of [['connect', 4], ['connect6', 6]] as const) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function (this: TcpHandle, ...args: unknown[]) {
      const err = original.apply(this, args);
      noticeHttp2(s);
      if (err === 0 && L.length > 0) {
        const owner = ownerIn(s, this);
        for (const l of L) {
          try { l.connected?.(this, owner, String(args[1]), Number(args[2]), family); } catch (e) { report(e); }
        }
        const req = args[0] as { oncomplete?: Fn } | null;
        const timed = L.some(timesConnect);
        if ((!owner || timed) && req && typeof req.oncomplete === 'function') {
          // Transient (until the attempt completes), and only where Node gives no owner yet
          // or a listener times the handshake (a metrics collector is active).
          const handle = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the attempt handle, read inside oncomplete
          const complete = req.oncomplete;
          const startedAt = timed ? performance.now() : 0;
          req.oncomplete = function (this: unknown, ...a: unknown[]) {
            const seconds = timed ? (performance.now() - startedAt) / 1000 : 0;
            const r = complete.apply(this, a);
            const adopted = owner ?? ownerIn(s, handle);
            if (adopted && !owner) {
              for (const l of L) {
                try { l.adopted?.(handle, adopted); } catch (e) { report(e); }
              }
            }
            if (timed) {
              for (const l of L) {
                try { l.connectDone?.(handle, adopted, Number(a[0]), seconds, String(args[1]), Number(args[2])); } catch (e) { report(e); }
              }
            }
            return r;
          };
        }
      }
      return err;
    };
    s.support.tcpConnect = true;
  }
  const keepAlive = proto.setKeepAlive;
  if (typeof keepAlive === 'function') {
    proto.setKeepAlive = function (this: TcpHandle, enable: unknown, delay: unknown) {
      const r = keepAlive.call(this, enable, delay);
      for (const l of L) {
        try { l.keepAlive?.(this, enable, delay); } catch (e) { report(e); }
      }
      return r;
    };
    s.support.tcpKeepAlive = true;
  }
  const readStop = proto.readStop; // inherited from LibuvStreamWrap; shadowed for TCP only
  if (typeof readStop === 'function') {
    proto.readStop = function (this: TcpHandle) {
      for (const l of L) {
        try { l.readStopped?.(this); } catch (e) { report(e); }
      }
      return readStop.call(this);
    };
    s.support.tcpReadStop = true;
  }
  const close = proto.close; // inherited from HandleWrap; the wrap shadows it for TCP only
  if (typeof close === 'function') {
    // Fixed arity (HandleWrap's close(callback)): no rest array per closed handle.
    proto.close = function (this: TcpHandle, callback: unknown) {
      for (const l of L) {
        try { l.closing?.(this); } catch (e) { report(e); }
      }
      return close.call(this, callback);
    };
    s.support.tcpClose = true;
  }
}

