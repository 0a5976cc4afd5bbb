"""Read-only admin views of the ledger: history is never edited by hand, only appended."""

from django.contrib import admin

from .models import Actor, Block, Chain, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Chain)
class ChainAdmin(ReadOnlyAdmin):
    list_display = ["slug", "name", "size", "sealed_size", "block_count"]
    search_fields = ["slug", "name"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["chain", "index", "kind", "actor", "created_at"]
    list_filter = ["chain", "kind"]
    search_fields = ["actor", "tx_hash"]
    list_select_related = ["chain"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["chain", "height", "tree_size", "root", "sealed_at"]
    list_filter = ["chain"]
    list_select_related = ["chain"]


@admin.register(Actor)
class ActorAdmin(ReadOnlyAdmin):
    list_display = ["did", "active", "registered_at", "deactivated_at"]
    list_filter = ["active"]
    search_fields = ["did"]
