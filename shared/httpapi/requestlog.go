package httpapi

import (
	"context"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The request log is one line per request: the commonest log line by
// far. Through slog's JSON handler it cost about 2 µs of a request's
// CPU (a Record with the caller's PC, four Attrs, and the "ms" float
// encoded by encoding/json). LogHandler is slog's JSON handler with a
// direct encoder for that line, writing the same bytes.

// LogHandler is a JSON log handler (slog.NewJSONHandler's output) on
// which the router writes its request lines without building a Record.
// Its WithAttrs and WithGroup return plain JSON handlers: the request
// line's fast path applies to the handler as made.
type LogHandler struct {
	*slog.JSONHandler
	w *lockedWriter
}

// lockedWriter serializes the writes of the JSON handler and of the
// request line's encoder, each a whole line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// NewLogHandler returns slog.NewJSONHandler(w, opts), with the request
// line's fast path unless opts replaces attributes or adds the source,
// which the fast path does not do.
func NewLogHandler(w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if opts != nil && (opts.ReplaceAttr != nil || opts.AddSource) {
		return slog.NewJSONHandler(w, opts)
	}
	lw := &lockedWriter{w: w}
	return &LogHandler{JSONHandler: slog.NewJSONHandler(lw, opts), w: lw}
}

var logBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// logRequest writes the line slog.Logger.LogAttrs(ctx, slog.LevelInfo,
// "request", method, path, status, ms) would write through the JSON
// handler, at time t.
func (h *LogHandler) logRequest(t time.Time, method, path string, status int, ms float64) {
	bp := logBuffers.Get().(*[]byte)
	b := appendRequestLine((*bp)[:0], t, method, path, status, ms)
	_, _ = h.w.Write(b)
	if cap(b) <= 4<<10 {
		*bp = b
		logBuffers.Put(bp)
	}
}

// appendRequestLine appends the request line as slog's JSON handler
// writes it (log/slog/json_handler.go): time in RFC 3339 with
// nanoseconds, strings escaped without HTML escaping, the float as
// encoding/json writes it.
func appendRequestLine(b []byte, t time.Time, method, path string, status int, ms float64) []byte {
	b = append(b, `{"time":`...)
	if y := t.Year(); y < 0 || y >= 10000 {
		// slog writes an error for such a time; so does the generic path.
		return appendRequestLineSlow(b[:0], t, method, path, status, ms)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","method":"`...)
	b = appendJSONString(b, method)
	b = append(b, `","path":"`...)
	b = appendJSONString(b, path)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"ms":`...)
	b = appendJSONFloat(b, ms)
	return append(b, "}\n"...)
}

// appendRequestLineSlow writes the line through slog itself, for the
// cases the fast encoder does not cover.
func appendRequestLineSlow(b []byte, t time.Time, method, path string, status int, ms float64) []byte {
	var w bytesWriter
	w.b = b
	r := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", method), slog.String("path", path), slog.Int("status", status), slog.Float64("ms", ms))
	_ = slog.NewJSONHandler(&w, nil).Handle(context.Background(), r)
	return w.b
}

type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// appendJSONFloat writes f as encoding/json does (its floatEncoder,
// 64 bits), which slog uses for floats. ms is never NaN or infinite.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, `"!ERROR:unsupported value"`...) // not reached: durations are finite
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString escapes s as slog's appendEscapedJSONString does
// (encoding/json without HTML escaping; invalid UTF-8 becomes U+FFFD,
// U+2028 and U+2029 are escaped).
func appendJSONString(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, '\\')
			switch c {
			case '\\', '"':
				b = append(b, c)
			case '\n':
				b = append(b, 'n')
			case '\r':
				b = append(b, 'r')
			case '\t':
				b = append(b, 't')
			default:
				b = append(b, 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
