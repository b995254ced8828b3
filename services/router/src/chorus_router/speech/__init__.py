"""One speech request's life: its plan, its failure policy, the provider call, delivery."""
