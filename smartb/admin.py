"""The operator sees the outbox: tasks owed, published, done, and why a publish failed."""

from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "task", "created_at", "published_at", "done_at", "publish_attempts")
    list_filter = ("task",)
    search_fields = ("task",)
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
