"""An engine-faithful analyzer harness: launches the policy pack as ``pulumi preview`` does (gRPC analyzer
protocol) and judges captured registrations. The offline preview and every policy test run through it."""
