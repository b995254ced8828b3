"""The Chorus operator: the TTSProvider CRD, its spec model, the renderer of provider children,
and the kopf handlers (`kopf run --standalone -m chorus_operator.handlers`)."""
