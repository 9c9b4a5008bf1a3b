//! Texts of the customer account pages: key, then en, de, es, pt, zh.

pub const ENTRIES: &[(&str, [&str; 5])] = &[
    ("account.signup", ["Create an account", "Konto anlegen", "Crear una cuenta", "Criar conta", "创建账户"]),
    (
        "account.have_account",
        [
            "Already have an account? Sign in",
            "Schon ein Konto? Anmelden",
            "¿Ya tiene cuenta? Inicie sesión",
            "Já tem conta? Entre",
            "已有账户？登录",
        ],
    ),
    ("account.name", ["Your name", "Ihr Name", "Su nombre", "Seu nome", "您的姓名"]),
    (
        "account.password_rule",
        [
            "At least 10 characters; common passwords are refused.",
            "Mindestens 10 Zeichen; gängige Passwörter werden abgelehnt.",
            "Al menos 10 caracteres; no se admiten contraseñas comunes.",
            "Pelo menos 10 caracteres; senhas comuns são recusadas.",
            "至少 10 个字符；常见密码将被拒绝。",
        ],
    ),
    (
        "account.email_taken",
        [
            "An account with this e-mail already exists.",
            "Ein Konto mit dieser E-Mail-Adresse existiert bereits.",
            "Ya existe una cuenta con este correo.",
            "Já existe uma conta com este e-mail.",
            "该电子邮箱已注册。",
        ],
    ),
    (
        "account.forgot",
        ["Forgot your password?", "Passwort vergessen?", "¿Olvidó su contraseña?", "Esqueceu a senha?", "忘记密码？"],
    ),
    ("account.send_link", ["Send me a link", "Link zusenden", "Enviarme un enlace", "Enviar link", "发送链接"]),
    (
        "account.new_password",
        [
            "Choose a new password",
            "Neues Passwort wählen",
            "Elija una nueva contraseña",
            "Escolha uma nova senha",
            "设置新密码",
        ],
    ),
    (
        "account.weak_password",
        [
            "That password is too short or too common.",
            "Dieses Passwort ist zu kurz oder zu gängig.",
            "Esa contraseña es demasiado corta o común.",
            "Essa senha é curta ou comum demais.",
            "密码太短或太常见。",
        ],
    ),
    (
        "account.password_changed",
        [
            "Your password was changed. Please sign in again.",
            "Ihr Passwort wurde geändert. Bitte melden Sie sich erneut an.",
            "Su contraseña se cambió. Inicie sesión de nuevo.",
            "Sua senha foi alterada. Entre novamente.",
            "密码已修改，请重新登录。",
        ],
    ),
    (
        "account.reset_sent",
        [
            "If an account exists for this address, we have sent it a link.",
            "Falls ein Konto zu dieser Adresse existiert, haben wir einen Link gesendet.",
            "Si existe una cuenta con esta dirección, le hemos enviado un enlace.",
            "Se houver uma conta com este endereço, enviamos um link.",
            "如果该地址存在账户，我们已发送链接。",
        ],
    ),
    (
        "account.link_invalid",
        [
            "This link is invalid, already used or expired.",
            "Dieser Link ist ungültig, bereits benutzt oder abgelaufen.",
            "Este enlace no es válido, ya se usó o caducó.",
            "Este link é inválido, já foi usado ou expirou.",
            "此链接无效、已使用或已过期。",
        ],
    ),
    (
        "account.verify_title",
        [
            "Confirm your e-mail address",
            "E-Mail-Adresse bestätigen",
            "Confirme su correo electrónico",
            "Confirme seu e-mail",
            "确认电子邮箱",
        ],
    ),
    ("account.verify_button", ["Confirm", "Bestätigen", "Confirmar", "Confirmar", "确认"]),
    (
        "account.verified",
        [
            "Thank you, your e-mail address is confirmed.",
            "Danke, Ihre E-Mail-Adresse ist bestätigt.",
            "Gracias, su correo está confirmado.",
            "Obrigado, seu e-mail foi confirmado.",
            "谢谢，您的邮箱已确认。",
        ],
    ),
    ("account.profile", ["Your profile", "Ihr Profil", "Su perfil", "Seu perfil", "个人资料"]),
    ("account.addresses", ["Your addresses", "Ihre Adressen", "Sus direcciones", "Seus endereços", "您的地址"]),
    (
        "account.add_address",
        ["Add an address", "Adresse hinzufügen", "Añadir dirección", "Adicionar endereço", "添加地址"],
    ),
    ("account.delete", ["Delete", "Löschen", "Eliminar", "Excluir", "删除"]),
    ("account.addr_name", ["Name", "Name", "Nombre", "Nome", "收件人"]),
    (
        "account.addr_line1",
        ["Street and number", "Straße und Hausnummer", "Calle y número", "Rua e número", "街道和门牌号"],
    ),
    ("account.addr_line2", ["Address line 2", "Adresszusatz", "Línea 2", "Complemento", "地址第二行"]),
    ("account.addr_city", ["City", "Ort", "Ciudad", "Cidade", "城市"]),
    (
        "account.addr_region",
        ["Region / state", "Bundesland / Region", "Provincia / región", "Estado / região", "省/州"],
    ),
    ("account.addr_postal_code", ["Postal code", "Postleitzahl", "Código postal", "CEP / código postal", "邮政编码"]),
    (
        "account.addr_country",
        ["Country (2 letters)", "Land (2 Buchstaben)", "País (2 letras)", "País (2 letras)", "国家（两位字母代码）"],
    ),
    ("account.addr_phone", ["Phone", "Telefon", "Teléfono", "Telefone", "电话"]),
    ("account.my_data", ["My data", "Meine Daten", "Mis datos", "Meus dados", "我的数据"]),
    (
        "account.export",
        ["Download my data", "Meine Daten herunterladen", "Descargar mis datos", "Baixar meus dados", "下载我的数据"],
    ),
    (
        "account.erase_title",
        [
            "Delete my personal data",
            "Meine personenbezogenen Daten löschen",
            "Borrar mis datos personales",
            "Apagar meus dados pessoais",
            "删除我的个人数据",
        ],
    ),
    (
        "account.erase_explain",
        [
            "Your name, e-mail and addresses are removed and you can no longer sign in. Records the law requires us to keep (orders, invoices) stay, without your personal data.",
            "Name, E-Mail und Adressen werden entfernt, und Sie können sich nicht mehr anmelden. Gesetzlich aufzubewahrende Belege (Bestellungen, Rechnungen) bleiben ohne Ihre persönlichen Daten erhalten.",
            "Se eliminan su nombre, correo y direcciones y ya no podrá iniciar sesión. Los registros que la ley obliga a conservar (pedidos, facturas) se mantienen sin sus datos personales.",
            "Seu nome, e-mail e endereços são removidos e você não poderá mais entrar. Registros exigidos por lei (pedidos, faturas) permanecem, sem seus dados pessoais.",
            "您的姓名、邮箱和地址将被删除，且无法再登录。法律要求保留的记录（订单、发票）将保留，但不含您的个人数据。",
        ],
    ),
    (
        "account.erase_button",
        ["Delete my data", "Meine Daten löschen", "Borrar mis datos", "Apagar meus dados", "删除我的数据"],
    ),
    (
        "account.erased",
        [
            "Your personal data has been deleted.",
            "Ihre personenbezogenen Daten wurden gelöscht.",
            "Sus datos personales han sido borrados.",
            "Seus dados pessoais foram apagados.",
            "您的个人数据已删除。",
        ],
    ),
    (
        "account.wrong_password",
        [
            "The password was wrong; nothing was deleted.",
            "Das Passwort war falsch; nichts wurde gelöscht.",
            "La contraseña era incorrecta; no se borró nada.",
            "A senha estava errada; nada foi apagado.",
            "密码错误，未删除任何数据。",
        ],
    ),
    (
        "mail.verify.subject",
        [
            "Please confirm your e-mail address",
            "Bitte bestätigen Sie Ihre E-Mail-Adresse",
            "Confirme su dirección de correo electrónico",
            "Confirme seu endereço de e-mail",
            "请确认您的电子邮箱地址",
        ],
    ),
    (
        "mail.verify.body",
        [
            "Welcome! Please confirm your e-mail address by opening this link:",
            "Willkommen! Bitte bestätigen Sie Ihre E-Mail-Adresse über diesen Link:",
            "¡Bienvenido! Confirme su dirección de correo electrónico abriendo este enlace:",
            "Bem-vindo! Confirme seu endereço de e-mail abrindo este link:",
            "欢迎！请打开以下链接确认您的电子邮箱地址：",
        ],
    ),
    (
        "mail.reset.subject",
        [
            "Reset your password",
            "Passwort zurücksetzen",
            "Restablecer su contraseña",
            "Redefinir sua senha",
            "重置您的密码",
        ],
    ),
    (
        "mail.reset.body",
        [
            "Someone asked to reset the password of your account. If it was you, open this link within an hour; otherwise ignore this message:",
            "Jemand möchte das Passwort Ihres Kontos zurücksetzen. Wenn Sie das waren, öffnen Sie diesen Link innerhalb einer Stunde; sonst ignorieren Sie diese Nachricht:",
            "Alguien pidió restablecer la contraseña de su cuenta. Si fue usted, abra este enlace en menos de una hora; si no, ignore este mensaje:",
            "Alguém pediu para redefinir a senha da sua conta. Se foi você, abra este link em até uma hora; caso contrário, ignore esta mensagem:",
            "有人请求重置您账户的密码。如果是您本人，请在一小时内打开此链接；否则请忽略此邮件：",
        ],
    ),
];
