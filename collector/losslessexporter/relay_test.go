// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
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

// The relay speaks TLS to the receiver when the settings ask for it (the exporter itself talks
// plain TCP to the relay on loopback), verifying the receiver's certificate against the CA given.
func TestSyslogRelayOverTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, caFile := writeTestCertificate(t, dir)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	daemon := &syslogDaemon{listener: listener, copies: map[string]int{}}
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go daemon.read(conn)
		}
	}()
	port := listener.Addr().(*net.TCPAddr).Port
	h := start(t, "syslog", settingsWithQueue(typeSyslog, map[string]any{
		"endpoint": "localhost", "port": port, "network": "tcp", "protocol": "rfc5424", "enable_octet_counting": true, "timeout": "2s",
		"tls": map[string]any{"insecure": false, "ca_file": caFile},
	}, t.TempDir()))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), syslogRecords(0, 20)))
	require.Eventually(t, func() bool { return daemon.count() == 20 }, 10*time.Second, 10*time.Millisecond)
}

// A receiver whose certificate is not trusted is a refusal (the configuration's), retried, never a loss.
func TestSyslogRelayUntrustedCertificateIsARefusal(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := writeTestCertificate(t, dir)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	listener, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	t.Cleanup(func() { listener.Close() })
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	settings := settingsWithQueue(typeSyslog, map[string]any{
		"endpoint": "localhost", "port": listener.Addr().(*net.TCPAddr).Port, "network": "tcp", "protocol": "rfc5424", "timeout": "2s",
		"tls": map[string]any{"insecure": false},
	}, t.TempDir())
	settings["sending_queue"] = map[string]any{"enabled": false}
	settings["retry_on_failure"] = map[string]any{"enabled": false}
	h := start(t, "syslog", settings)
	err = h.exporter.ConsumeLogs(context.Background(), syslogRecords(0, 1))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "refused the export")
}

// writeTestCertificate writes a self-signed certificate for localhost, its key, and itself as the CA.
func writeTestCertificate(t *testing.T, dir string) (string, string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	keyDer, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDer}), 0o600))
	return certFile, keyFile, certFile
}
