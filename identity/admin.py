from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Credential, Identity, User


class IdentityInline(admin.TabularInline):
    model = Identity
    fields = ["did", "custody", "label", "is_primary", "created_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [IdentityInline]
    list_display = ["email", "username", "public_id", "is_staff", "is_active"]
    readonly_fields = ["public_id"]


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Credentials are issued and revoked through the services (signed, on the ledger)."""

    list_display = ["public_id", "kind", "subject_did", "issued_at", "revoked_at"]
    list_filter = ["kind"]
    readonly_fields = [f.name for f in Credential._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
