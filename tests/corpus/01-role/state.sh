f=/etc/systemd/system/corpus-webapp.service
stat -c '%n %a %U %G' "$f" && sha256sum "$f"
echo "enabled: $(systemctl is-enabled corpus-webapp.service 2>&1)"
echo "active: $(systemctl is-active corpus-webapp.service 2>&1)"
