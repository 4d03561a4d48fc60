// Publishes Chromium's fake camera and microphone as MediaRecorder WebM
// chunks over a WebSocket (webmwssrc's protocol, see gst-inspect-1.0
// webmwssrc):
//   node webm_publisher.mjs --url ws://127.0.0.1:PORT/ingest?key=KEY
//        [--mime 'video/webm;codecs=vp8,opus'] [--seconds 6] [--timeslice 500]
//        [--abrupt] [--no-start] [--keyframe-ms MS]
// Sends {"type":"start","mimeType":...} (not with --no-start: the server
// has only the recording's header to go by), then every chunk as a binary
// message; after --seconds it stops the recorder, sends the last chunk and
// {"type":"stop-stream"} and waits for the server's close (--abrupt: closes
// the socket mid-stream with no stop-stream instead). --keyframe-ms: a
// keyframe at least that often (videoKeyFrameIntervalDuration, as
// web/wsingest.js asks; Chromium's own default is rarer). Prints one JSON line:
// {mimeType, chunks, bytes, closeCode, closeReason, error}.
import { parseArgs, evaluateInPage, run } from './chromium.mjs';

const args = parseArgs(process.argv.slice(2));
const page_html = `<!doctype html><meta charset="utf-8"><title>webm</title>
<script>
window.publish = async (opts) => {
  const out = { chunks: 0, bytes: 0 };
  const audioOnly = opts.mime.startsWith('audio/');
  if (!MediaRecorder.isTypeSupported(opts.mime)) {
    out.error = 'MediaRecorder cannot record ' + opts.mime;
    return out;
  }
  const stream = await navigator.mediaDevices.getUserMedia(
      { audio: true, video: audioOnly ? false : { width: 640, height: 480 } });
  const ws = new WebSocket(opts.url);
  ws.binaryType = 'arraybuffer';
  const closed = new Promise((resolve) => ws.addEventListener('close', (e) => {
    out.closeCode = e.code;
    out.closeReason = e.reason;
    resolve();
  }));
  const opened = await new Promise((resolve) => {
    ws.addEventListener('open', () => resolve(true));
    ws.addEventListener('error', () => resolve(false));
    setTimeout(() => resolve(false), 5000);
  });
  if (!opened) {
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    out.error = 'the WebSocket did not open';
    return out;
  }
  const recorder = new MediaRecorder(stream, { mimeType: opts.mime,
    ...(opts.keyframeMs ? { videoKeyFrameIntervalDuration: opts.keyframeMs } : {}) });
  out.mimeType = recorder.mimeType;
  if (!opts.noStart)
    ws.send(JSON.stringify({ type: 'start', mimeType: recorder.mimeType }));
  recorder.addEventListener('dataavailable', async (e) => {
    if (!e.data.size || ws.readyState !== WebSocket.OPEN) return;
    out.chunks++;
    out.bytes += e.data.size;
    ws.send(e.data);
  });
  const stopped = new Promise((resolve) => recorder.addEventListener('stop', resolve));
  recorder.start(opts.timeslice);
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  if (opts.abrupt) {
    ws.close(4000, 'abrupt');
  } else {
    recorder.stop();
    await stopped;
    // the last chunk is sent in dataavailable, which comes before stop
    ws.send(JSON.stringify({ type: 'stop-stream' }));
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 10000))]);
  if (recorder.state !== 'inactive') recorder.stop();
  stream.getTracks().forEach((t) => t.stop());
  return out;
};
</script>`;

run(() => evaluateInPage(page_html, 'publish', {
      url: args.url, mime: args.mime || 'video/webm;codecs=vp8,opus',
      seconds: Number(args.seconds || 6), timeslice: Number(args.timeslice || 500),
      abrupt: !!args.abrupt, noStart: !!args['no-start'],
      keyframeMs: Number(args['keyframe-ms'] || 0),
    }), 90000);
