"""What an SRT caller is told when a listener refuses it: the reject
reason its libsrt holds (srt_getrejectreason), which none of ffmpeg 5.1,
GStreamer 1.22's srtsink or srt-live-transmit prints (they print
"Application-defined rejection reason", or libsrt's text for a
passphrase problem: ../shared/FACTS.md). A caller of a few lines over
Debian's libsrt (ctypes), to read that code; the real callers send the
media.

    reason = connect("127.0.0.1", port, "KEY", passphrase=None)
    # 0: connected (and closed at once); SRT_REJX_* (1401...) from the
    # listener's application; libsrt's own SRT_REJ_* (10 bad secret, ...)

Standard library only (and libsrt-gnutls, which srt-tools pulls in).
"""
import ctypes
import ctypes.util
import socket
import struct

SRTO_STREAMID = 46
SRTO_PASSPHRASE = 26
SRTO_CONNTIMEO = 36
SRTO_SENDER = 21

SRT_REJ_BADSECRET = 10       # wrong passphrase
SRT_REJ_UNSECURE = 11        # passphrase required, or sent to a listener with none
SRT_REJ_TIMEOUT = 16         # nobody answered
SRT_REJX_BAD_REQUEST = 1400
SRT_REJX_UNAUTHORIZED = 1401
SRT_REJX_OVERLOAD = 1402
SRT_REJX_NOTFOUND = 1404
SRT_REJX_BAD_MODE = 1405
SRT_REJX_UNACCEPTABLE = 1406
SRT_REJX_CONFLICT = 1409

_lib = None


def _libsrt():
    global _lib
    if _lib is None:
        name = ctypes.util.find_library("srt-gnutls") or "libsrt-gnutls.so.1.5"
        lib = ctypes.CDLL(name)
        lib.srt_startup()
        lib.srt_rejectreason_str.restype = ctypes.c_char_p
        lib.srt_getlasterror_str.restype = ctypes.c_char_p
        _lib = lib
    return _lib


def reason_text(code):
    """libsrt's words for a reject reason (one text for every SRT_REJX_*)."""
    return _libsrt().srt_rejectreason_str(code).decode()


def connect(host, port, stream_id, passphrase=None, timeout_ms=3000):
    """Calls host:port with stream_id as an SRT sender would; 0 when the
    listener accepted (the socket is closed at once), else the reject
    reason its libsrt reports (SRT_REJ_TIMEOUT, 16, when nothing answered)."""
    lib = _libsrt()
    s = lib.srt_create_socket()
    if s < 0:
        raise OSError(lib.srt_getlasterror_str().decode())
    try:
        def option(opt, value):
            if isinstance(value, bytes):
                ok = lib.srt_setsockflag(s, opt, value, len(value))
            else:
                v = ctypes.c_int(value)
                ok = lib.srt_setsockflag(s, opt, ctypes.byref(v), ctypes.sizeof(v))
            if ok != 0:
                raise OSError(lib.srt_getlasterror_str().decode())
        option(SRTO_SENDER, 1)
        option(SRTO_CONNTIMEO, timeout_ms)
        option(SRTO_STREAMID, stream_id.encode())
        if passphrase:
            option(SRTO_PASSPHRASE, passphrase.encode())
        # sockaddr_in: the family in host order, the port and address in network order
        addr = (struct.pack("=H", socket.AF_INET) + struct.pack("!H", port)
                + socket.inet_aton(host) + bytes(8))
        buf = ctypes.create_string_buffer(addr, len(addr))
        if lib.srt_connect(s, buf, len(addr)) == 0:
            return 0
        return lib.srt_getrejectreason(s)
    finally:
        lib.srt_close(s)
