// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"strings"

	"go.uber.org/zap/zapcore"
)

// rejectionLine is what exporterhelper logs, at error level, when an exporter without a queue and
// retries (the wrapped one) fails an attempt: "Exporting failed. Rejecting data. Try enabling
// retry_on_failure ...". Here nothing is rejected: lossless keeps the batch and says what happened
// in its own words, so the line would only mislead whoever reads the log.
const rejectionLine = "Exporting failed. Rejecting data."

// withoutRejectionLines is the wrapped exporter's log: everything it logs but rejectionLine.
func withoutRejectionLines(core zapcore.Core) zapcore.Core {
	return quietCore{Core: core}
}

type quietCore struct{ zapcore.Core }

func (c quietCore) With(fields []zapcore.Field) zapcore.Core {
	return quietCore{Core: c.Core.With(fields)}
}

func (c quietCore) Check(entry zapcore.Entry, checked *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if strings.HasPrefix(entry.Message, rejectionLine) {
		return checked
	}
	return c.Core.Check(entry, checked)
}
