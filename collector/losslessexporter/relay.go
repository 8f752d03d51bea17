// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
)

// syslogRelay stands between the wrapped syslog exporter and the syslog receiver, on loopback, and
// confirms each batch. Over TCP, syslog has no acknowledgement (RFC 6587): the exporter's write
// succeeds once the bytes are in this host's socket buffer, and a receiver that resets the
// connection (a daemon restarting, a balancer without a backend) loses what it had not read while
// the exporter counts it as sent.
//
// The exporter opens one connection per batch, writes it and closes. The relay carries it to the
// receiver (with the TLS the exporter was configured with), then closes its sending side and waits
// for the receiver to close its own: a receiver closes only after reading up to that close, so
// that close confirms every byte of the batch was read. A connection that fails, is reset, or is
// closed by the receiver before the batch ended is a failed attempt, and the batch is sent again.
//
//	wrapped syslog exporter ──plain TCP──► relay (127.0.0.1) ──TCP or TLS──► syslog receiver
type syslogRelay struct {
	listener net.Listener
	dial     func(ctx context.Context) (net.Conn, error)
	target   string
	timeout  time.Duration
	logger   *zap.Logger

	mu      sync.Mutex
	changed *sync.Cond
	// opened counts the exporter's connections accepted so far; results[n] is the outcome of the
	// n-th once it ended (nil: confirmed).
	opened  int
	results map[int]error
	conns   map[net.Conn]struct{}
	closed  bool
	// warnedUnconfirmed: the receiver kept a connection open past the timeout once (said once).
	warnedUnconfirmed bool
	done              sync.WaitGroup
}

func startSyslogRelay(target string, tlsConfig *tls.Config, timeout time.Duration, logger *zap.Logger) (*syslogRelay, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &syslogRelay{listener: listener, target: target, timeout: timeout, logger: logger, results: map[int]error{}, conns: map[net.Conn]struct{}{}}
	r.changed = sync.NewCond(&r.mu)
	r.dial = func(ctx context.Context) (net.Conn, error) {
		dialer := &net.Dialer{Timeout: timeout}
		if tlsConfig == nil {
			return dialer.DialContext(ctx, "tcp", target)
		}
		return (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", target)
	}
	r.done.Add(1)
	go r.accept()
	return r, nil
}

func (r *syslogRelay) port() int { return r.listener.Addr().(*net.TCPAddr).Port }

func (r *syslogRelay) accept() {
	defer r.done.Done()
	for {
		conn, err := r.listener.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			reset(conn)
			continue
		}
		n := r.opened
		r.opened++
		r.conns[conn] = struct{}{}
		r.mu.Unlock()
		r.changed.Broadcast()
		r.done.Add(1)
		go func() {
			defer r.done.Done()
			err := r.relay(conn)
			r.mu.Lock()
			r.results[n] = err
			delete(r.conns, conn)
			r.mu.Unlock()
			r.changed.Broadcast()
		}()
	}
}

// reset closes a connection with a reset, so that a write on its other end fails at once.
func reset(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

func closeWrite(conn net.Conn) error {
	switch c := conn.(type) {
	case *tls.Conn:
		return c.CloseWrite()
	case *net.TCPConn:
		return c.CloseWrite()
	}
	return conn.Close()
}

// relay carries one connection of the exporter (one batch) to the receiver: nil once the receiver
// confirmed it read all of it.
func (r *syslogRelay) relay(exporterConn net.Conn) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	receiver, err := r.dial(ctx)
	cancel()
	if err != nil {
		reset(exporterConn)
		return fmt.Errorf("cannot connect to the syslog receiver at %s: %w", r.target, err)
	}
	r.mu.Lock()
	r.conns[receiver] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.conns, receiver)
		r.mu.Unlock()
	}()
	// A receiver sends nothing: its read returns when it closes the connection, or resets it.
	receiverClosed := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, receiver)
		receiverClosed <- err
	}()
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(writerWithDeadline{receiver, r.timeout}, exporterConn)
		copied <- err
	}()
	select {
	case err := <-copied:
		if err != nil {
			reset(exporterConn)
			reset(receiver)
			return fmt.Errorf("cannot write to the syslog receiver at %s: %w", r.target, err)
		}
	case err := <-receiverClosed:
		// Before the batch ended: what it had not read is lost.
		reset(exporterConn)
		reset(receiver)
		return fmt.Errorf("the syslog receiver at %s closed the connection before the batch ended: %w", r.target, errOrEOF(err))
	}
	// The whole batch is written: close our side, and wait for the receiver to close its own.
	if err := closeWrite(receiver); err != nil {
		reset(receiver)
		return fmt.Errorf("cannot close the connection to the syslog receiver at %s: %w", r.target, err)
	}
	_ = exporterConn.Close()
	select {
	case err := <-receiverClosed:
		_ = receiver.Close()
		if err != nil {
			return fmt.Errorf("the syslog receiver at %s reset the connection instead of confirming the batch: %w", r.target, err)
		}
		return nil
	case <-time.After(r.timeout):
		// A receiver that keeps connections open confirms nothing; TCP had the bytes acknowledged.
		r.mu.Lock()
		warn := !r.warnedUnconfirmed
		r.warnedUnconfirmed = true
		r.mu.Unlock()
		if warn {
			r.logger.Warn("The syslog receiver did not close the connection after a batch: its reading of the batch is not confirmed (only TCP's acknowledgement is)", zap.String("receiver", r.target))
		}
		reset(receiver)
		return nil
	}
}

func errOrEOF(err error) error {
	if err == nil {
		return io.EOF
	}
	return err
}

// writerWithDeadline bounds each write to the receiver.
type writerWithDeadline struct {
	conn    net.Conn
	timeout time.Duration
}

func (w writerWithDeadline) Write(p []byte) (int, error) {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.conn.Write(p)
}

// mark is where the connections of an attempt begin.
func (r *syslogRelay) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opened
}

var errNotRelayed = errors.New("the exporter's batch did not reach the relay")

// outcome waits until the connections the exporter opened since from have ended and returns the
// last one's outcome: the exporter redials after a failed write, so the last carried the batch.
// wanted says whether the batch had something to send (at least one connection is then awaited).
func (r *syslogRelay) outcome(ctx context.Context, from int, wanted bool) error {
	deadline := time.Now().Add(2*r.timeout + time.Second)
	stop := context.AfterFunc(ctx, r.changed.Broadcast)
	defer stop()
	timer := time.AfterFunc(time.Until(deadline), r.changed.Broadcast)
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		ended := true
		for n := from; n < r.opened; n++ {
			if _, ok := r.results[n]; !ok {
				ended = false
			}
		}
		if ended && (r.opened > from || !wanted) {
			if r.opened == from {
				return nil
			}
			last := r.results[r.opened-1]
			for n := from; n < r.opened; n++ {
				delete(r.results, n)
			}
			return last
		}
		if ctx.Err() != nil || !time.Now().Before(deadline) {
			return errNotRelayed
		}
		r.changed.Wait()
	}
}

func (r *syslogRelay) close() {
	r.mu.Lock()
	r.closed = true
	for conn := range r.conns {
		reset(conn)
	}
	r.mu.Unlock()
	_ = r.listener.Close()
	r.done.Wait()
}
