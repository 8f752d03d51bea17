// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

// syslogDaemon reads octet-counted syslog messages and keeps the record ids they carry; while
// resetting, it resets every connection as soon as it is made, without reading (a daemon that
// restarts): what the sender wrote into that connection is lost on the wire.
type syslogDaemon struct {
	listener  net.Listener
	resetting atomic.Bool
	mu        sync.Mutex
	copies    map[string]int
}

func startSyslogDaemon(t *testing.T) *syslogDaemon {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	d := &syslogDaemon{listener: listener, copies: map[string]int{}}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			if d.resetting.Load() {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
				continue
			}
			go d.read(conn)
		}
	}()
	return d
}

func (d *syslogDaemon) read(conn net.Conn) {
	defer conn.Close()
	reader := bufio.NewReader(conn)
	for {
		if d.resetting.Load() {
			conn.(*net.TCPConn).SetLinger(0)
			return
		}
		conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		prefix, err := reader.ReadString(' ')
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() && prefix == "" {
				continue
			}
			return
		}
		length, err := strconv.Atoi(strings.TrimSpace(prefix))
		if err != nil {
			return
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		message := make([]byte, length)
		if _, err := io.ReadFull(reader, message); err != nil {
			return
		}
		if at := strings.Index(string(message), "id-"); at >= 0 {
			id := strings.Fields(string(message[at:]))[0]
			d.mu.Lock()
			d.copies[id]++
			d.mu.Unlock()
		}
	}
}

func (d *syslogDaemon) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.copies)
}

func syslogRecords(from, n int) plog.Logs {
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	for i := from; i < from+n; i++ {
		record := sl.LogRecords().AppendEmpty()
		record.Attributes().PutStr("message", fmt.Sprintf("id-%d", i))
	}
	return ld
}

// A syslog receiver that resets its connections loses what it had not read, while the exporter's
// write succeeded: the relay sees that the receiver did not confirm the batch (it reset instead of
// closing after it), and the batch is sent again; every record arrives.
func TestSyslogResetsLoseNothing(t *testing.T) {
	daemon := startSyslogDaemon(t)
	port := daemon.listener.Addr().(*net.TCPAddr).Port
	h := start(t, "syslog", settingsWithQueue(typeSyslog, map[string]any{
		"endpoint": "127.0.0.1", "port": port, "network": "tcp", "protocol": "rfc5424", "enable_octet_counting": true, "timeout": "1s", "tls": map[string]any{"insecure": true},
	}, t.TempDir()))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), syslogRecords(0, 10)))
	require.Eventually(t, func() bool { return daemon.count() == 10 }, 10*time.Second, 10*time.Millisecond)
	daemon.resetting.Store(true)
	for batch := 0; batch < 5; batch++ {
		require.NoError(t, h.exporter.ConsumeLogs(context.Background(), syslogRecords(10+batch*10, 10)))
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(time.Second)
	daemon.resetting.Store(false)
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), syslogRecords(60, 10)))
	if !assert.Eventually(t, func() bool { return daemon.count() == 70 }, 20*time.Second, 20*time.Millisecond, "records written into reset connections were written again") {
		daemon.mu.Lock()
		var missing []string
		for i := 0; i < 70; i++ {
			if daemon.copies[fmt.Sprintf("id-%d", i)] == 0 {
				missing = append(missing, fmt.Sprint(i))
			}
		}
		daemon.mu.Unlock()
		t.Logf("missing: %v\nlog: %v", missing, h.logs.All())
	}
}
