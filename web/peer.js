// What the WebRTC clients (whip.js publishing, whep.js playing) share:
// waiting for a peer connection's ICE gathering and for its connection,
// each bounded.

// Resolves once ICE gathering is complete, or after ms with the candidates
// gathered by then (loopback and LAN candidates come in well under a second).
export function gathered(pc, ms) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const done = () => {
      if (pc.iceGatheringState === 'complete') resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, ms);
  });
}

// Resolves once the connection is 'connected'; rejects with 'failed' when
// ICE or DTLS fail, or 'timeout' after ms.
export function connected(pc, ms) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pc.connectionState === 'connected') resolve();
      else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') reject(new Error('failed'));
    };
    pc.addEventListener('connectionstatechange', check);
    check();
    setTimeout(() => reject(new Error('timeout')), ms);
  });
}

// Calls onLost() once when an established connection is gone: failed or
// closed at once, 'disconnected' (which often recovers by itself) after
// graceMs. Returns a function that stops watching.
export function watchConnection(pc, graceMs, onLost) {
  let timer = null;
  let done = false;
  const lost = () => {
    if (done) return;
    done = true;
    onLost();
  };
  const onChange = () => {
    clearTimeout(timer);
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') lost();
    else if (pc.connectionState === 'disconnected') timer = setTimeout(lost, graceMs);
  };
  pc.addEventListener('connectionstatechange', onChange);
  return () => {
    done = true;
    clearTimeout(timer);
    pc.removeEventListener('connectionstatechange', onChange);
  };
}
