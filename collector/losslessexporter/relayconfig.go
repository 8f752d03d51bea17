// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
)

// defaultSyslogTimeout is the syslog exporter's own default, used for the relay's connections too.
const defaultSyslogTimeout = 5 * time.Second

// startRelayFor starts the relay of a syslog exporter over TCP (settings: its configuration): to
// the receiver it names, with the TLS it names.
func startRelayFor(ctx context.Context, name string, settings map[string]any, logger *zap.Logger) (*syslogRelay, error) {
	var s struct {
		Endpoint string                 `mapstructure:"endpoint"`
		Port     int                    `mapstructure:"port"`
		Timeout  time.Duration          `mapstructure:"timeout"`
		TLS      configtls.ClientConfig `mapstructure:"tls"`
	}
	if err := confmap.NewFromStringMap(settings).Unmarshal(&s, confmap.WithIgnoreUnused()); err != nil {
		return nil, fmt.Errorf("exporter::%s: %w", name, err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = defaultSyslogTimeout
	}
	var tlsConfig *tls.Config
	if !s.TLS.Insecure {
		loaded, err := s.TLS.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("exporter::%s::tls: %w", name, err)
		}
		if loaded.ServerName == "" {
			loaded.ServerName = s.Endpoint
		}
		tlsConfig = loaded
	}
	return startSyslogRelay(net.JoinHostPort(s.Endpoint, strconv.Itoa(s.Port)), tlsConfig, timeout, logger)
}

// throughRelay points a syslog exporter's settings at the relay: plain TCP on loopback (the relay
// speaks TLS to the receiver when the settings asked for it).
func throughRelay(settings map[string]any, port int) map[string]any {
	out := make(map[string]any, len(settings))
	for key, value := range settings {
		out[key] = value
	}
	out["endpoint"] = "127.0.0.1"
	out["port"] = port
	out["tls"] = map[string]any{"insecure": true}
	return out
}
