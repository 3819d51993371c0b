"""The older import name of the SDK: an alias of :mod:`amzn_nova_forge`.

``import amzn_nova_customization_sdk.dataset`` returns the very same module object
as ``amzn_nova_forge.dataset``.

Example:
    >>> import amzn_nova_forge, amzn_nova_customization_sdk
    >>> amzn_nova_customization_sdk is amzn_nova_forge
    True
"""

from __future__ import annotations

from amzn_nova_forge._alias import install_alias

install_alias(__name__)
